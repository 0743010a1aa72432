/*
 * web_assets.c - the console's files with what serving them needs: type,
 * ETag, gzip. Embedded files are prepared once at open; with --web DIR a
 * file is read, hashed and compressed on each request, so an edit shows on
 * the next reload (development only: the cost does not matter there).
 * index.html is the one file rewritten: WEB_VERSION_MARK becomes the
 * version, so asset URLs change whenever any file does (see api/console.c),
 * and WEB_TZ_MARK the organisation's time zone (--tz), which the pages show
 * every time in.
 */
#include "convene/web_assets.h"
#include "convene/config.h"
#include "convene/token.h"
#include "convene/util.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define WEB_GZIP_LEVEL 9     /* once per file at start: the smallest body is worth it */
#define WEB_GZIP_MIN 256     /* bytes: below this gzip's header eats the gain */

struct web_assets {
    struct web_file *files; /* owned; embedded mode */
    size_t count;
    char *dir;              /* owned; NULL in embedded mode */
    struct web_file scratch; /* directory mode: the last file read (data and gzip owned) */
    char scratch_path[WEB_PATH_MAX];
    char version[WEB_VERSION_LEN + 1];
    char tz[64];            /* the organisation's zone, for the page's times */
};

static const struct {
    const char *ext;
    const char *type;
    int compress;
} types[] = {
    {".html", "text/html; charset=utf-8", 1},
    {".js", "text/javascript; charset=utf-8", 1},
    {".css", "text/css; charset=utf-8", 1},
    {".svg", "image/svg+xml", 1},
    {".json", "application/json; charset=utf-8", 1},
    {".txt", "text/plain; charset=utf-8", 1},
    {".png", "image/png", 0},
    {".ico", "image/x-icon", 0},
    {".woff2", "font/woff2", 0},
};

/* Licence and version files have no extension; they are text. */
static const char *content_type(const char *path, int *compress)
{
    size_t len = strlen(path);

    for (size_t i = 0; i < ARRAY_SIZE(types); i++) {
        size_t n = strlen(types[i].ext);
        if (len > n && strcmp(path + len - n, types[i].ext) == 0) {
            *compress = types[i].compress;
            return types[i].type;
        }
    }
    *compress = 1;
    return "text/plain; charset=utf-8";
}

int web_path_is_plain(const char *path, size_t len)
{
    size_t seg = 0;

    if (len == 0 || len >= WEB_PATH_MAX)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = path[i];
        if (c == '/') {
            if (seg == 0)
                return 0; /* leading, trailing or doubled slash */
            seg = 0;
            continue;
        }
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.'))
            return 0;
        if (seg == 0 && c == '.')
            return 0; /* ".", "..", dot files */
        seg++;
    }
    return seg > 0;
}

static void sha256_hex(const unsigned char *data, size_t len, char *hex, size_t digits)
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int n = 0;

    EVP_Digest(data, len, digest, &n, EVP_sha256(), NULL);
    token_hex(digest, digits / 2, hex);
}

/* Fills type, ETags and gzip of a file whose path, data and len are set. */
static void file_prepare(struct web_file *f)
{
    char hex[17];
    int compress;

    f->content_type = content_type(f->path, &compress);
    sha256_hex(f->data, f->len, hex, 16);
    snprintf(f->etag, sizeof(f->etag), "\"%s\"", hex);
    snprintf(f->etag_gzip, sizeof(f->etag_gzip), "\"%s-gz\"", hex);
    f->gzip = NULL;
    f->gzip_len = 0;
    if (compress && f->len >= WEB_GZIP_MIN) {
        f->gzip = gzip_compress(f->data, f->len, WEB_GZIP_LEVEL, &f->gzip_len);
        if (f->gzip != NULL && f->gzip_len >= f->len) {
            free(f->gzip);
            f->gzip = NULL;
        }
    }
}

/* Whether s can stand in an HTML attribute as is (an IANA zone name can). */
static int attribute_safe(const char *s)
{
    for (; *s != '\0'; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '/' || *s == '_' || *s == '+' || *s == '-'))
            return 0;
    return 1;
}

/* index.html with WEB_VERSION_MARK and WEB_TZ_MARK replaced; malloc'd. */
static unsigned char *index_render(const struct web_assets *wa, const unsigned char *data,
                                   size_t len, size_t *out_len)
{
    const struct {
        const char *mark, *value;
    } marks[] = {{WEB_VERSION_MARK, wa->version}, {WEB_TZ_MARK, wa->tz}};
    struct strbuf sb;
    size_t i = 0;

    strbuf_init(&sb, WEB_FILE_MAX * 2);
    while (i < len) {
        size_t m = 0;
        while (m < ARRAY_SIZE(marks) && !(len - i >= strlen(marks[m].mark) &&
                                          memcmp(data + i, marks[m].mark, strlen(marks[m].mark)) == 0))
            m++;
        if (m < ARRAY_SIZE(marks)) {
            strbuf_puts(&sb, marks[m].value);
            i += strlen(marks[m].mark);
        } else {
            strbuf_append(&sb, (const char *)data + i, 1);
            i++;
        }
    }
    strbuf_append(&sb, "", 0); /* an empty index still yields a buffer */
    return (unsigned char *)strbuf_detach(&sb, out_len);
}

/* The version: SHA-256 over every path and content, so any change moves it. */
static void embedded_version(char out[WEB_VERSION_LEN + 1])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int n = 0;

    if (ctx == NULL)
        abort();
    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
    for (size_t i = 0; i < web_embedded_count; i++) {
        const struct web_embedded *e = &web_embedded_files[i];
        EVP_DigestUpdate(ctx, e->path, strlen(e->path) + 1);
        EVP_DigestUpdate(ctx, e->data, e->len);
    }
    EVP_DigestFinal_ex(ctx, digest, &n);
    EVP_MD_CTX_free(ctx);
    token_hex(digest, WEB_VERSION_LEN / 2, out);
}

static void open_embedded(struct web_assets *wa)
{
    embedded_version(wa->version);
    wa->files = xcalloc(web_embedded_count ? web_embedded_count : 1, sizeof(*wa->files));
    for (size_t i = 0; i < web_embedded_count; i++) {
        const struct web_embedded *e = &web_embedded_files[i];
        struct web_file *f = &wa->files[wa->count++];
        f->path = e->path;
        f->data = e->data;
        f->len = e->len;
        if (strcmp(e->path, WEB_INDEX) == 0)
            f->data = index_render(wa, e->data, e->len, &f->len);
        file_prepare(f);
    }
}

int web_assets_open(const char *dir, const char *tz, struct web_assets **out)
{
    struct web_assets *wa = xcalloc(1, sizeof(*wa));
    struct stat st;

    snprintf(wa->tz, sizeof(wa->tz), "%s", tz != NULL && attribute_safe(tz) ? tz : "");

    if (dir != NULL && dir[0] != '\0') {
        if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
            log_error("--web %s: not a directory", dir);
            free(wa);
            return -1;
        }
        wa->dir = xstrdup(dir);
        snprintf(wa->version, sizeof(wa->version), "dev");
        log_info("console served from %s (no caching)", dir);
    } else {
        open_embedded(wa);
    }
    *out = wa;
    return 0;
}

static void scratch_clear(struct web_assets *wa)
{
    free((void *)wa->scratch.data);
    free(wa->scratch.gzip);
    memset(&wa->scratch, 0, sizeof(wa->scratch));
}

/* Reads dir/path whole; a malloc'd buffer, or NULL when absent, not a regular file or too big. */
static unsigned char *read_file(const char *dir, const char *path, size_t *len)
{
    char full[CONFIG_PATH_MAX + WEB_PATH_MAX + 2];
    struct stat st;
    unsigned char *buf;
    ssize_t n;
    size_t got = 0;
    int fd;

    if ((size_t)snprintf(full, sizeof(full), "%s/%s", dir, path) >= sizeof(full))
        return NULL;
    fd = open(full, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > WEB_FILE_MAX) {
        close(fd);
        return NULL;
    }
    buf = xmalloc((size_t)st.st_size + 1);
    while (got < (size_t)st.st_size &&
           ((n = read(fd, buf + got, (size_t)st.st_size - got)) > 0 || (n < 0 && errno == EINTR)))
        got += n > 0 ? (size_t)n : 0;
    close(fd);
    *len = got;
    return buf;
}

static const struct web_file *find_on_disk(struct web_assets *wa, const char *path, size_t len)
{
    size_t size = 0;
    unsigned char *data;

    scratch_clear(wa);
    memcpy(wa->scratch_path, path, len);
    wa->scratch_path[len] = '\0';
    data = read_file(wa->dir, wa->scratch_path, &size);
    if (data == NULL)
        return NULL;
    wa->scratch.path = wa->scratch_path;
    wa->scratch.data = data;
    wa->scratch.len = size;
    if (strcmp(wa->scratch_path, WEB_INDEX) == 0) {
        wa->scratch.data = index_render(wa, data, size, &wa->scratch.len);
        free(data);
    }
    file_prepare(&wa->scratch);
    return &wa->scratch;
}

const struct web_file *web_assets_find(struct web_assets *wa, const char *path, size_t len)
{
    if (!web_path_is_plain(path, len))
        return NULL;
    if (wa->dir != NULL)
        return find_on_disk(wa, path, len);
    for (size_t i = 0; i < wa->count; i++)
        if (strlen(wa->files[i].path) == len && memcmp(wa->files[i].path, path, len) == 0)
            return &wa->files[i];
    return NULL;
}

const char *web_assets_version(const struct web_assets *wa)
{
    return wa->version;
}

int web_assets_from_disk(const struct web_assets *wa)
{
    return wa->dir != NULL;
}

void web_assets_free(struct web_assets *wa)
{
    if (wa == NULL)
        return;
    for (size_t i = 0; i < wa->count; i++) {
        free(wa->files[i].gzip);
        if (strcmp(wa->files[i].path, WEB_INDEX) == 0)
            free((void *)wa->files[i].data);
    }
    free(wa->files);
    scratch_clear(wa);
    free(wa->dir);
    free(wa);
}
