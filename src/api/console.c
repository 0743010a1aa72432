/*
 * console.c - GET / and GET /assets/<version>/<path>: the office console's
 * files (web/, see app/web_assets.c) with the headers a browser needs to
 * keep it safe and fast.
 *
 * Caching: index.html is `no-cache` (revalidated on every load, a 304 when
 * nothing changed) and names every asset under /assets/<version>/, where
 * the version is a hash of all the files. An asset under the current
 * version is therefore `immutable` for a year: a returning browser asks
 * for nothing but the index, and a new build moves every URL at once, so
 * no mix of old and new modules can meet. (Content-hashed file names would
 * do the same per file, but ES modules import each other by name, and
 * rewriting those imports is the build step the console must not have.)
 * A request under another version (a page loaded before an upgrade asking
 * for a module it had not fetched yet) gets the current file, `no-cache`,
 * so it is never stored under a name it does not belong to.
 */
#include "handlers.h"

#include "convene/util.h"
#include "convene/web_assets.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Scripts, styles, images and requests from this origin only; no inline
 * script or style anywhere (the pages set classes, never style=), no
 * framing, no plugins, no <base> tricks, forms post here only.
 */
#define CONSOLE_CSP                                                                           \
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "               \
    "connect-src 'self'; font-src 'self'; manifest-src 'self'; base-uri 'none'; "             \
    "form-action 'self'; frame-ancestors 'none'"

#define CACHE_IMMUTABLE "public, max-age=31536000, immutable"
#define CACHE_REVALIDATE "no-cache"

void api_console_security_headers(struct api_call *call)
{
    api_add_header(call, "content-security-policy", CONSOLE_CSP);
    api_add_header(call, "x-content-type-options", "nosniff");
    api_add_header(call, "referrer-policy", "no-referrer");
}

/* The console's file set, prepared on first use (`serve --web` opened it at start). */
static struct web_assets *assets(struct api_call *call)
{
    if (call->app->web == NULL && web_assets_open(NULL, call->app->cfg.tz, &call->app->web) != 0)
        return NULL;
    return call->app->web;
}

const char *api_console_asset_url(struct api_call *call, const char *path, char *out, size_t cap)
{
    struct web_assets *wa = assets(call);
    int n;

    if (wa == NULL || web_assets_find(wa, path, strlen(path)) == NULL)
        return NULL;
    n = snprintf(out, cap, "/assets/%s/%s", web_assets_version(wa), path);
    return n > 0 && (size_t)n < cap ? out : NULL;
}

/* If-None-Match names etag (or is "*"); weak forms W/"..." match too (RFC 9110 13.1.2). */
static int etag_listed(const struct api_request *req, const char *etag)
{
    size_t n = strlen(etag);

    if (req->if_none_match == NULL)
        return 0;
    if (req->if_none_match_len == 1 && req->if_none_match[0] == '*')
        return 1;
    for (size_t i = 0; i + n <= req->if_none_match_len; i++)
        if (memcmp(req->if_none_match + i, etag, n) == 0)
            return 1;
    return 0;
}

/* Answers with f: 304 when the client holds it, else its gzip or plain bytes. */
static void reply_file(struct api_call *call, const struct web_file *f, const char *cache)
{
    struct api_response *res = call->res;
    int gzip = f->gzip != NULL && api_accepts_gzip(call->req);

    api_add_header(call, "cache-control", cache);
    if (f->gzip != NULL)
        api_add_header(call, "vary", "Accept-Encoding");
    /* Each body has its own ETag: a cache must not answer a plain request with gzip bytes. */
    snprintf(res->etag, sizeof(res->etag), "%s", gzip ? f->etag_gzip : f->etag);
    if (etag_listed(call->req, res->etag)) {
        api_reply_empty(call, 304);
        return;
    }
    api_reply_empty(call, 200);
    res->content_type = f->content_type;
    if (gzip)
        api_add_header(call, "content-encoding", "gzip");
    res->body_len = gzip ? f->gzip_len : f->len;
    res->body = xmalloc(res->body_len ? res->body_len : 1);
    memcpy(res->body, gzip ? f->gzip : f->data, res->body_len);
}

static void reply_missing(struct api_call *call)
{
    api_reply_error(call, 404, "not_found", NULL, "no such file in the console");
}

void api_console_index(struct api_call *call)
{
    struct web_assets *wa = assets(call);
    const struct web_file *f;

    api_console_security_headers(call);
    if (wa == NULL) {
        api_reply_error(call, 500, "internal", NULL, "the console's files are unavailable");
        return;
    }
    f = web_assets_find(wa, WEB_INDEX, strlen(WEB_INDEX));
    if (f == NULL) {
        reply_missing(call);
        return;
    }
    reply_file(call, f, CACHE_REVALIDATE);
}

/*
 * Whether the path came with %-escapes. h2o decodes them before routing, so
 * /assets/v/js%2Fmain.js would reach js/main.js; no console URL has one,
 * so any escape (an encoded slash or dot above all) is refused outright.
 */
static int path_escaped(const struct api_request *req)
{
    const char *q;
    size_t len;

    if (req->raw_path == NULL)
        return 0;
    q = memchr(req->raw_path, '?', req->raw_path_len);
    len = q ? (size_t)(q - req->raw_path) : req->raw_path_len;
    return memchr(req->raw_path, '%', len) != NULL;
}

void api_console_asset(struct api_call *call)
{
    struct web_assets *wa = assets(call);
    const char *version = call->params[0], *path = call->params[1];
    const struct web_file *f;

    api_console_security_headers(call);
    if (wa == NULL) {
        api_reply_error(call, 500, "internal", NULL, "the console's files are unavailable");
        return;
    }
    /* The page itself lives at /; under /assets/ it would be a second, cacheable copy. */
    f = strcmp(path, WEB_INDEX) == 0 || path_escaped(call->req)
            ? NULL
            : web_assets_find(wa, path, strlen(path));
    if (f == NULL) {
        reply_missing(call);
        return;
    }
    reply_file(call, f,
               !web_assets_from_disk(wa) && strcmp(version, web_assets_version(wa)) == 0
                   ? CACHE_IMMUTABLE
                   : CACHE_REVALIDATE);
}
