/*
 * test_web_assets.c - app/web_assets.c: which paths may name a console
 * file, how index.html is rewritten, and what a file carries (type, ETag,
 * gzip), for the compiled-in set and for --web DIR alike.
 */
#define _GNU_SOURCE /* memmem */
#include "check.h"

#include "convene/util.h"
#include "convene/web_assets.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

static void test_plain_paths(void)
{
    static const struct {
        const char *path;
        int plain;
    } cases[] = {
        {"index.html", 1},
        {"js/pages/week.js", 1},
        {"vendor/LICENSE.preact", 1},
        {"a_b-c.1.js", 1},
        {"", 0},
        {"/js/main.js", 0},     /* absolute */
        {"js/", 0},             /* trailing slash: a directory */
        {"js//main.js", 0},     /* empty segment */
        {"..", 0},
        {"js/../main.js", 0},
        {"./main.js", 0},
        {".gitignore", 0},      /* hidden files */
        {"js/.main.js", 0},
        {"js\\main.js", 0},     /* a backslash is no separator here */
        {"js/ma in.js", 0},
        {"js/main.js?x", 0},
        {"js/%2e%2e", 0},
        {"文件.js", 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        CHECK_EQ_INT(web_path_is_plain(cases[i].path, strlen(cases[i].path)), cases[i].plain);
    char longest[WEB_PATH_MAX + 1];
    memset(longest, 'a', sizeof(longest));
    CHECK_EQ_INT(web_path_is_plain(longest, WEB_PATH_MAX - 1), 1);
    CHECK_EQ_INT(web_path_is_plain(longest, WEB_PATH_MAX), 0);
}

static int gunzip_equals(const unsigned char *gz, size_t gzlen, const unsigned char *want,
                         size_t wantlen)
{
    unsigned char out[256 * 1024];
    z_stream zs;
    int ok;

    memset(&zs, 0, sizeof(zs));
    if (inflateInit2(&zs, 15 + 16) != Z_OK)
        return 0;
    zs.next_in = (Bytef *)(uintptr_t)gz;
    zs.avail_in = (uInt)gzlen;
    zs.next_out = out;
    zs.avail_out = sizeof(out);
    ok = inflate(&zs, Z_FINISH) == Z_STREAM_END && zs.total_out == wantlen &&
         memcmp(out, want, wantlen) == 0;
    inflateEnd(&zs);
    return ok;
}

static void test_embedded(void)
{
    struct web_assets *wa = NULL;
    const struct web_file *f;

    CHECK_EQ_INT(web_assets_open(NULL, "Asia/Shanghai", &wa), 0);
    CHECK_EQ_INT(strlen(web_assets_version(wa)), WEB_VERSION_LEN);
    CHECK_EQ_INT(web_assets_from_disk(wa), 0);

    f = web_assets_find(wa, WEB_INDEX, strlen(WEB_INDEX));
    CHECK(f != NULL);
    if (f != NULL) {
        char needle[64];
        CHECK_EQ_STR(f->content_type, "text/html; charset=utf-8");
        CHECK(memmem(f->data, f->len, WEB_VERSION_MARK, strlen(WEB_VERSION_MARK)) == NULL);
        CHECK(memmem(f->data, f->len, WEB_TZ_MARK, strlen(WEB_TZ_MARK)) == NULL);
        snprintf(needle, sizeof(needle), "/assets/%s/js/main.js", web_assets_version(wa));
        CHECK(memmem(f->data, f->len, needle, strlen(needle)) != NULL);
        CHECK(memmem(f->data, f->len, "content=\"Asia/Shanghai\"", 23) != NULL);
    }
    f = web_assets_find(wa, "vendor/qrcode.js", 16);
    CHECK(f != NULL);
    if (f != NULL) {
        CHECK_EQ_STR(f->content_type, "text/javascript; charset=utf-8");
        CHECK_EQ_INT(strlen(f->etag), 18); /* a quote, 16 hex digits, a quote */
        CHECK(strncmp(f->etag_gzip, f->etag, 17) == 0 && strcmp(f->etag_gzip + 17, "-gz\"") == 0);
        CHECK(f->gzip != NULL && f->gzip_len < f->len / 2);
        CHECK(f->gzip != NULL && gunzip_equals(f->gzip, f->gzip_len, f->data, f->len));
    }
    f = web_assets_find(wa, "icon.svg", 8);
    CHECK(f != NULL && strcmp(f->content_type, "image/svg+xml") == 0);
    CHECK(web_assets_find(wa, "js/nope.js", 10) == NULL);
    CHECK(web_assets_find(wa, "js/../index.html", 16) == NULL);
    /* A zone that could break out of the attribute is left out, not written. */
    web_assets_free(wa);
    CHECK_EQ_INT(web_assets_open(NULL, "x\" onload=\"alert(1)", &wa), 0);
    f = web_assets_find(wa, WEB_INDEX, strlen(WEB_INDEX));
    CHECK(f != NULL && memmem(f->data, f->len, "onload", 6) == NULL);
    web_assets_free(wa);
    web_assets_free(NULL);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (f != NULL) {
        fputs(text, f);
        fclose(f);
    }
}

static void test_directory(void)
{
    char dir[512], path[600];
    struct web_assets *wa = NULL;
    const struct web_file *f;
    char etag[32];

    check_tmpdir(dir, sizeof(dir));
    snprintf(path, sizeof(path), "%s/index.html", dir);
    write_file(path, "<script src=\"/assets/@VERSION@/a.js\"></script>@TZ@");
    snprintf(path, sizeof(path), "%s/a.js", dir);
    write_file(path, "one");

    CHECK_EQ_INT(web_assets_open(dir, "Europe/Berlin", &wa), 0);
    CHECK_EQ_STR(web_assets_version(wa), "dev");
    f = web_assets_find(wa, WEB_INDEX, strlen(WEB_INDEX));
    CHECK(f != NULL && f->len == strlen("<script src=\"/assets/dev/a.js\"></script>Europe/Berlin") &&
          memcmp(f->data, "<script src=\"/assets/dev/a.js\"></script>Europe/Berlin", f->len) == 0);
    f = web_assets_find(wa, "a.js", 4);
    CHECK(f != NULL && f->len == 3 && f->gzip == NULL); /* too small to gzip */
    snprintf(etag, sizeof(etag), "%s", f ? f->etag : "");
    write_file(path, "two!");
    f = web_assets_find(wa, "a.js", 4);
    CHECK(f != NULL && f->len == 4 && strcmp(f->etag, etag) != 0);
    CHECK(web_assets_find(wa, "b.js", 4) == NULL);
    web_assets_free(wa);

    snprintf(path, sizeof(path), "%s/missing", dir);
    wa = NULL;
    CHECK_EQ_INT(web_assets_open(path, "UTC", &wa), -1);
    CHECK(wa == NULL);
    check_rmdir(dir);
}

int main(void)
{
    test_plain_paths();
    test_embedded();
    test_directory();
    return check_finish();
}
