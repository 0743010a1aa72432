/*
 * changes.c - GET /api/v1/changes: the change stream (text/event-stream)
 * the console listens to. The handler only checks the request and opens
 * the stream; what it carries and to whom is decided in notify/changes.c.
 */
#include "handlers.h"

#include "convene/notify.h"
#include "convene/util.h"

#include <string.h>

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
    struct api_stream *stream;
    int64_t last;

    if (last_event_id(call->req, &last) != 0) {
        api_reply_error(call, 400, "invalid", "Last-Event-ID",
                        "'Last-Event-ID' must be the id of an event this stream sent");
        return;
    }
    if (notify_changes_open(call->app->notify, call->auth.role, call->auth.person, last,
                            &stream) != 0) {
        api_reply_error(call, 503, "too_many_streams", NULL,
                        "too many change streams are open (or the service is stopping): retry "
                        "shortly");
        api_add_header(call, "Retry-After", "5");
        return;
    }
    call->res->status = 200;
    call->res->stream = stream;
}
