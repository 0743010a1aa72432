/*
 * changes.c - GET /api/v1/changes: the change stream (text/event-stream)
 * the console listens to. The handler only checks the request and opens
 * the stream; what it carries and to whom is decided in notify/changes.c.
 */
#include "handlers.h"

#include "convene/http.h"
#include "convene/notify.h"
#include "convene/util.h"

#include <stdlib.h>
#include <string.h>

/*
 * The HTTP side of one change stream: the HTTP layer holds it by `stream`
 * and writes through its sink; notify holds the subscription and decides
 * what goes out. Freed by whichever end finishes first: detach (the
 * connection went) or close (notify dropped a reader too slow to keep up).
 */
struct changes_stream {
    struct api_stream stream; /* first: the HTTP layer holds it by this */
    struct change_sub *sub;
    struct http_sink *sink;
};

static int stream_write(void *arg, const char *data, size_t len)
{
    struct changes_stream *cs = arg;

    return http_sink_write(cs->sink, data, len);
}

static void stream_close(void *arg)
{
    struct changes_stream *cs = arg;

    http_sink_close(cs->sink);
    free(cs);
}

static const struct change_writer http_writer = {stream_write, stream_close};

static void on_attach(struct api_stream *stream, struct http_sink *sink)
{
    struct changes_stream *cs = (struct changes_stream *)stream;

    cs->sink = sink;
    notify_changes_attach(cs->sub, &http_writer, cs);
}

static void on_detach(struct api_stream *stream)
{
    struct changes_stream *cs = (struct changes_stream *)stream;

    notify_changes_detach(cs->sub);
    free(cs);
}

/* Last-Event-ID: the id of the last event the client saw; -1 when absent. 0, or -1 if malformed. */
static int last_event_id(const struct api_request *req, int64_t *out)
{
    *out = -1;
    if (req->last_event_id == NULL || req->last_event_id_len == 0)
        return 0;
    return parse_int64_n(req->last_event_id, req->last_event_id_len, 0, INT64_MAX, out);
}

void api_changes(struct api_call *call)
{
    struct change_sub *sub;
    struct changes_stream *cs;
    int64_t last;

    /* HEAD: the headers a stream would have, without opening one. */
    if (call->req->method_len == 4 && memcmp(call->req->method, "HEAD", 4) == 0) {
        api_reply_empty(call, 200);
        call->res->content_type = "text/event-stream; charset=utf-8";
        return;
    }
    if (last_event_id(call->req, &last) != 0) {
        api_reply_error(call, 400, "invalid", "Last-Event-ID",
                        "'Last-Event-ID' must be the id of an event this stream sent");
        return;
    }
    sub = notify_changes_open(call->app->notify, call->auth.role, call->auth.person, last);
    if (sub == NULL) {
        api_reply_error(call, 503, "too_many_streams", NULL,
                        "too many change streams are open (or the service is stopping): retry "
                        "shortly");
        api_add_header(call, "Retry-After", "5");
        return;
    }
    cs = xcalloc(1, sizeof(*cs));
    cs->stream.attach = on_attach;
    cs->stream.detach = on_detach;
    cs->sub = sub;
    call->res->status = 200;
    call->res->stream = &cs->stream;
}
